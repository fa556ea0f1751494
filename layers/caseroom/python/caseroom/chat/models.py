"""The rooms' API contract (openapi.json is generated from these models)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseroom.access import Room
from caseroom.cases.models import StrictModel

MAX_TEXT_CHARS = 4000  # a message's text
MAX_ATTACHMENTS = 10
MAX_MENTIONS = 20
EDIT_WINDOW_MINUTES = 15  # an author may edit or delete their message this long after sending

MessageId = Annotated[
    str, StringConstraints(min_length=30, max_length=30, pattern=r"^m[0-9]{13}[0-9a-f]{16}$")
]
FileId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:@-]+$")]


class SendMessage(StrictModel):
    """A message: text (up to 4000 characters) and/or attachments (files of the case)."""

    text: str = Field(default="", max_length=MAX_TEXT_CHARS * 4)  # the character limit is checked by logic
    reply_to: MessageId | None = Field(default=None, alias="replyTo")
    attachments: list[FileId] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    mentions: list[UserId] = Field(
        default_factory=list, max_length=MAX_MENTIONS, description="User ids of the owner or active members"
    )


class EditMessage(StrictModel):
    text: str = Field(max_length=MAX_TEXT_CHARS * 4)


class _View(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class MessageView(_View):
    message_id: str = Field(alias="messageId")
    case_id: str = Field(alias="caseId")
    room: Room
    author_id: str = Field(alias="authorId")
    author_name: str = Field(alias="authorName")
    author_role: str = Field(alias="authorRole")
    text: str = Field(description="Empty once deleted")
    created_at: str = Field(alias="createdAt")
    reply_to: str | None = Field(default=None, alias="replyTo")
    attachments: list[str] = Field(default_factory=list)
    mentions: list[str] = Field(default_factory=list)
    edited_at: str | None = Field(default=None, alias="editedAt")
    deleted_at: str | None = Field(default=None, alias="deletedAt")


class MessagePage(_View):
    items: list[MessageView]
    next_cursor: str | None = Field(default=None, alias="nextCursor")


class RoomView(_View):
    room: Room
    unread: int = Field(description="Messages after your read marker, not yours (capped at 100)")
    last_message_id: str | None = Field(default=None, alias="lastMessageId")
    read_up_to: str | None = Field(default=None, alias="readUpTo")


class RoomList(_View):
    case_id: str = Field(alias="caseId")
    items: list[RoomView]


class TicketView(_View):
    ticket: str = Field(description="Single use: pass it as ?ticket= on the WebSocket URL")
    expires_in_seconds: int = Field(alias="expiresInSeconds")
