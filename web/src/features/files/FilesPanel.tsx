import { useEffect, useState } from "preact/hooks";
import { api, must, type FileKind } from "../../shared/api/client";
import { formatBytes, formatDateTime, label, t } from "../../shared/i18n";
import { FileActions } from "../../shared/preview/Preview";
import { ErrorBox, Loading } from "../../shared/ui/components";
import { useAsync } from "../../shared/ui/hooks";
import { guessKind, Interrupted, uploadFile } from "./upload";

type Transfer = { key: string; name: string; sent: number; total: number; state: "sending" | "done" | "failed"; message?: string; resumable?: Interrupted };

const KINDS: FileKind[] = ["photo", "scan", "cbct", "xray", "pdf", "video", "other"];

/** Galleries, their files (download), and uploads by picker or drag and drop, each with progress. */
export function FilesPanel({ caseId, refreshKey }: { caseId: string; refreshKey: number }) {
  const galleries = useAsync(async () => must(await api.GET("/cases/{caseId}/galleries", { params: { path: { caseId } } })), [caseId]);
  const [galleryId, setGalleryId] = useState("initial-documentation");
  const [kind, setKind] = useState<FileKind | "auto">("auto");
  const [transfers, setTransfers] = useState<Transfer[]>([]);
  const [tick, setTick] = useState(0);
  const [dragging, setDragging] = useState(false);
  const files = useAsync(
    async () => must(await api.GET("/cases/{caseId}/galleries/{galleryId}/files", { params: { path: { caseId, galleryId } } })),
    [caseId, galleryId, tick, refreshKey],
  );
  useEffect(() => {
    const first = galleries.data?.items[0];
    if (first && !galleries.data?.items.some((gallery) => gallery.galleryId === galleryId)) setGalleryId(first.galleryId);
  }, [galleries.data, galleryId]);

  const update = (key: string, change: Partial<Transfer>) =>
    setTransfers((all) => all.map((transfer) => (transfer.key === key ? { ...transfer, ...change } : transfer)));

  const upload = async (list: FileList | File[]) => {
    const chosen = [...list];
    const started = chosen.map((file, index) => ({ key: `${Date.now()}-${index}-${file.name}`, name: file.name, sent: 0, total: file.size, state: "sending" as const }));
    setTransfers((all) => [...started, ...all]);
    await Promise.all(
      chosen.map(async (file, index) => {
        const key = started[index]?.key ?? "";
        try {
          await uploadFile(caseId, galleryId, file, kind === "auto" ? guessKind(file) : kind, (sent, total) => update(key, { sent, total }));
          update(key, { state: "done", sent: file.size });
        } catch (caught) {
          update(key, { state: "failed", message: (caught as Error).message, resumable: caught instanceof Interrupted ? caught : undefined });
        }
      }),
    );
    setTick((n) => n + 1);
  };

  const resume = async (transfer: Transfer) => {
    if (!transfer.resumable) return;
    update(transfer.key, { state: "sending", message: undefined });
    try {
      await transfer.resumable.resume((sent, total) => update(transfer.key, { sent, total }));
      update(transfer.key, { state: "done", sent: transfer.total, resumable: undefined });
    } catch (caught) {
      update(transfer.key, { state: "failed", message: (caught as Error).message });
    }
    setTick((n) => n + 1);
  };

  const getLink = async (fileId: string) => must(await api.GET("/cases/{caseId}/files/{fileId}/download", { params: { path: { caseId, fileId } } }));

  return (
    <section class="card" aria-labelledby="files-title">
      <h2 id="files-title">{t("files.title")}</h2>
      {galleries.error && <ErrorBox error={galleries.error} />}
      <div class="row">
        <label>
          {t("files.gallery")}
          <select value={galleryId} onChange={(e) => setGalleryId(e.currentTarget.value)}>
            {galleries.data?.items.map((gallery) => (
              <option key={gallery.galleryId} value={gallery.galleryId}>
                {gallery.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t("files.kind")}
          <select value={kind} onChange={(e) => setKind(e.currentTarget.value as FileKind | "auto")}>
            <option value="auto">auto</option>
            {KINDS.map((value) => (
              <option key={value} value={value}>
                {label(value)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div
        class={`dropzone${dragging ? " dragging" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={(e) => {
          e.preventDefault();
          setDragging(false);
          if (e.dataTransfer?.files.length) void upload(e.dataTransfer.files);
        }}
      >
        <label class="button">
          {t("files.choose")}
          <input
            type="file"
            multiple
            class="visually-hidden"
            data-testid="file-input"
            onChange={(e) => {
              const input = e.currentTarget;
              if (input.files?.length) void upload(input.files).then(() => (input.value = ""));
            }}
          />
        </label>
        <span class="muted"> {t("files.drop")}</span>
      </div>
      <ul class="plain stack" aria-live="polite">
        {transfers.map((transfer) => (
          <li key={transfer.key} class="transfer" data-state={transfer.state}>
            {transfer.state === "sending" && (
              <>
                <label>
                  {t("files.progress", { name: transfer.name })}
                  <progress max={transfer.total || 1} value={transfer.sent} />
                </label>
              </>
            )}
            {transfer.state === "done" && <span>✓ {t("files.done", { name: transfer.name })}</span>}
            {transfer.state === "failed" && (
              <span class="error-text">
                {t("files.failed", { name: transfer.name, message: transfer.message ?? "" })}{" "}
                {transfer.resumable && (
                  <button type="button" class="button small" onClick={() => resume(transfer)}>
                    {t("files.resume")}
                  </button>
                )}
              </span>
            )}
          </li>
        ))}
      </ul>
      {files.loading && !files.data && <Loading />}
      {files.error && <ErrorBox error={files.error} />}
      {files.data && files.data.items.length === 0 && <p class="muted">{t("files.empty")}</p>}
      <ul class="plain files">
        {files.data?.items.map((file) => (
          <li key={file.fileId} data-file-id={file.fileId} data-status={file.status}>
            <span class="file-name">{file.fileName}</span>{" "}
            <span class="muted">
              {label(file.kind)} · {formatBytes(file.sizeBytes)} · {file.status} · {formatDateTime(file.createdAt)}
            </span>{" "}
            {file.status === "available" && <FileActions file={file} getLink={getLink} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
