// Files with downloads and previews, for every screen that lists files (the case's files, the
// patient's Passport, a guest's share link): photos show as images, PDFs in a frame, scans (STL,
// PLY, OBJ) in the 3D viewer, which is a lazily loaded chunk. Other files download.
// Previews fetch the file (a presigned GET, minutes long) into a blob: URL, so the page's CSP
// names no storage host for images or frames.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { formatBytes, formatDateTime, label, t } from "../i18n";
import { ErrorBox, Loading } from "../ui/components";

export type FileLink = { url: string; fileName: string };
export type ListedFile = { fileId: string; fileName: string; kind: string; sizeBytes: number; contentType: string; createdAt: string };
export type PreviewKind = "image" | "pdf" | "mesh";
type MeshFormat = "stl" | "ply" | "obj";

const IMAGE_TYPES = new Set(["image/png", "image/jpeg", "image/webp", "image/gif"]);

function extension(fileName: string): string {
  return fileName.toLowerCase().split(".").pop() ?? "";
}

export function previewKind(file: { fileName: string; contentType: string }): PreviewKind | null {
  const ext = extension(file.fileName);
  if (IMAGE_TYPES.has(file.contentType) || ["png", "jpg", "jpeg", "webp", "gif"].includes(ext)) return "image";
  if (file.contentType === "application/pdf" || ext === "pdf") return "pdf";
  if (ext === "stl" || ext === "ply" || ext === "obj") return "mesh";
  return null;
}

/** Saves a file from its (presigned) link under its own name. */
export function saveFile(link: FileLink): void {
  const anchor = document.createElement("a");
  anchor.href = link.url;
  anchor.download = link.fileName;
  anchor.rel = "noopener";
  anchor.click();
}

/** The download and preview buttons of one file; the preview opens below them. */
export function FileActions({ file, getLink }: { file: { fileId: string; fileName: string; contentType: string }; getLink: (fileId: string) => Promise<FileLink> }) {
  const kind = previewKind(file);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<Error>();
  const download = async () => {
    setError(undefined);
    try {
      saveFile(await getLink(file.fileId));
    } catch (caught) {
      setError(caught as Error);
    }
  };
  return (
    <>
      <button type="button" class="button small secondary" aria-label={t("files.download", { name: file.fileName })} onClick={download}>
        ⤓
      </button>{" "}
      {kind && (
        <button
          type="button"
          class="button small secondary"
          aria-expanded={open}
          aria-label={open ? t("preview.close", { name: file.fileName }) : t("preview.open", { name: file.fileName })}
          data-testid="preview-button"
          onClick={() => setOpen(!open)}
        >
          {open ? t("preview.closeShort") : t("preview.openShort")}
        </button>
      )}
      {error && <ErrorBox error={error} />}
      {open && kind && <PreviewPane file={file} kind={kind} getLink={getLink} />}
    </>
  );
}

function PreviewPane({ file, kind, getLink }: { file: { fileId: string; fileName: string }; kind: PreviewKind; getLink: (fileId: string) => Promise<FileLink> }) {
  const [blob, setBlob] = useState<{ url: string; data: Blob }>();
  const [error, setError] = useState<Error>();
  useEffect(() => {
    let live = true;
    let objectUrl = "";
    (async () => {
      const link = await getLink(file.fileId);
      const response = await fetch(link.url);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.blob();
      const typed = kind === "pdf" ? new Blob([data], { type: "application/pdf" }) : data;
      objectUrl = URL.createObjectURL(typed);
      if (live) setBlob({ url: objectUrl, data: typed });
    })().catch((caught: unknown) => live && setError(caught as Error));
    return () => {
      live = false;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [file.fileId, kind]);
  return (
    <div class="preview" data-preview={kind}>
      {error && <ErrorBox error={error} />}
      {!blob && !error && <Loading />}
      {blob && kind === "image" && <img src={blob.url} alt={t("preview.photo", { name: file.fileName })} />}
      {blob && kind === "pdf" && <iframe src={blob.url} title={t("preview.pdf", { name: file.fileName })} />}
      {blob && kind === "mesh" && <MeshView data={blob.data} fileName={file.fileName} />}
    </div>
  );
}

function MeshView({ data, fileName }: { data: Blob; fileName: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const helpId = useId();
  const [state, setState] = useState<{ status: "loading" | "ready" | "failed"; triangles?: number; message?: string }>({ status: "loading" });
  useEffect(() => {
    let dispose = () => undefined as void;
    let live = true;
    (async () => {
      const [{ mountViewer, parseMesh }, buffer] = await Promise.all([import("./viewer3d"), data.arrayBuffer()]);
      const mesh = parseMesh(buffer, extension(fileName) as MeshFormat);
      if (!live || !canvas.current) return;
      dispose = mountViewer(canvas.current, mesh).dispose;
      setState({ status: "ready", triangles: mesh.triangles });
    })().catch((caught: unknown) => live && setState({ status: "failed", message: (caught as Error).message }));
    return () => {
      live = false;
      dispose();
    };
  }, [data, fileName]);
  return (
    <figure class="viewer" data-state={state.status}>
      <canvas ref={canvas} tabIndex={0} role="img" aria-label={t("preview.scan", { name: fileName })} aria-describedby={helpId} data-triangles={state.triangles} />
      <figcaption id={helpId} class="muted">
        {state.status === "ready" && t("preview.scanHelp", { count: state.triangles ?? 0 })}
        {state.status === "loading" && t("app.loading")}
        {state.status === "failed" && <span role="alert">{t("preview.failed", { message: state.message ?? "" })}</span>}
      </figcaption>
    </figure>
  );
}

/** A gallery's files as a list: name, kind, size, date; download and preview each. */
export function FileRows({ files, getLink }: { files: ListedFile[]; getLink: (fileId: string) => Promise<FileLink> }) {
  if (files.length === 0) return <p class="muted">{t("files.empty")}</p>;
  return (
    <ul class="plain files">
      {files.map((file) => (
        <li key={file.fileId} data-file-id={file.fileId}>
          <span class="file-name">{file.fileName}</span>{" "}
          <span class="muted">
            {label(file.kind)} · {formatBytes(file.sizeBytes)} · {formatDateTime(file.createdAt)}
          </span>{" "}
          <FileActions file={file} getLink={getLink} />
        </li>
      ))}
    </ul>
  );
}
