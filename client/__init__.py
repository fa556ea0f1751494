"""CaseRoom's command-line client (`caseroom`): uploads files and folders to a case, resuming
interrupted multipart uploads, and downloads a gallery. Standard library only."""
