// Uploads straight to S3 with what POST /cases/{caseId}/uploads signs: one presigned POST for a
// small file, presigned part URLs for a large one. Progress per file; a multipart upload
// resumes from the parts S3 already holds (GET .../uploads/{fileId} lists them with ETags, which
// a browser cannot read from a cross-origin PUT response).
import { api, must, type FileKind } from "../../shared/api/client";

export type Progress = (sentBytes: number, totalBytes: number) => void;

async function sha256Hex(data: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

function send(method: "POST" | "PUT", url: string, body: XMLHttpRequestBodyInit, headers: Record<string, string>, onProgress: (loaded: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open(method, url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onload = () => (request.status < 300 ? resolve() : reject(new Error(`storage answered ${request.status}`)));
    request.onerror = () => reject(new Error("network error"));
    request.send(body);
  });
}

export function guessKind(file: File): FileKind {
  const name = file.name.toLowerCase();
  if (file.type.startsWith("image/")) return "photo";
  if (file.type === "application/pdf" || name.endsWith(".pdf")) return "pdf";
  if (file.type.startsWith("video/")) return "video";
  if (/\.(stl|ply|obj)$/.test(name)) return "scan";
  if (/\.(dcm|dicom)$/.test(name)) return "cbct";
  return "other";
}

export async function uploadFile(caseId: string, galleryId: string, file: File, kind: FileKind, onProgress: Progress): Promise<string> {
  const whole = await file.arrayBuffer();
  const ticket = must(
    await api.POST("/cases/{caseId}/uploads", {
      params: { path: { caseId } },
      body: {
        fileName: file.name,
        kind,
        sizeBytes: file.size,
        contentType: file.type || "application/octet-stream",
        sha256: await sha256Hex(whole),
        galleryId,
        partSizeBytes: null,
      },
    }),
  );
  if (ticket.mode === "post" && ticket.post) {
    const form = new FormData();
    for (const [name, value] of Object.entries(ticket.post.fields)) form.append(name, value);
    form.append("file", file);
    await send("POST", ticket.post.url, form, {}, (loaded) => onProgress(Math.min(loaded, file.size), file.size));
    onProgress(file.size, file.size);
    return ticket.fileId;
  }
  if (!ticket.multipart) throw new Error("no upload plan");
  const plan = { caseId, fileId: ticket.fileId, file, partSize: ticket.multipart.partSizeBytes, partCount: ticket.multipart.partCount };
  try {
    await uploadParts(plan.caseId, plan.fileId, file, plan.partSize, plan.partCount, onProgress);
  } catch (caught) {
    throw new Interrupted((caught as Error).message, plan);
  }
  return ticket.fileId;
}

export type ResumePlan = { caseId: string; fileId: string; file: File; partSize: number; partCount: number };

/** A multipart upload that stopped part-way (connection dropped): `resume()` sends what is missing. */
export class Interrupted extends Error {
  constructor(
    message: string,
    readonly plan: ResumePlan,
  ) {
    super(message);
  }

  resume(onProgress: Progress): Promise<void> {
    const { caseId, fileId, file, partSize, partCount } = this.plan;
    return uploadParts(caseId, fileId, file, partSize, partCount, onProgress);
  }
}

/** Sends the parts S3 does not hold yet, then completes. Run again after a dropped connection. */
export async function uploadParts(caseId: string, fileId: string, file: File, partSize: number, partCount: number, onProgress: Progress): Promise<void> {
  const path = { caseId, fileId };
  const state = must(await api.GET("/cases/{caseId}/uploads/{fileId}", { params: { path } }));
  const have = new Set((state.receivedParts ?? []).map((part) => part.partNumber));
  const checksums = new Map<number, string>();
  let done = (state.receivedParts ?? []).reduce((sum, part) => sum + part.sizeBytes, 0);
  onProgress(done, file.size);
  const missing = [];
  for (let number = 1; number <= partCount; number += 1) if (!have.has(number)) missing.push(number);
  for (let start = 0; start < missing.length; start += 100) {
    const batch = missing.slice(start, start + 100);
    const parts = [];
    for (const number of batch) {
      const bytes = await file.slice((number - 1) * partSize, number * partSize).arrayBuffer();
      checksums.set(number, await sha256Hex(bytes));
      parts.push({ partNumber: number, sha256: checksums.get(number) ?? "" });
    }
    const urls = must(await api.POST("/cases/{caseId}/uploads/{fileId}/part-urls", { params: { path }, body: { parts } }));
    for (const part of urls.parts) {
      const blob = file.slice((part.partNumber - 1) * partSize, part.partNumber * partSize);
      await send("PUT", part.url, blob, part.headers, (loaded) => onProgress(done + loaded, file.size));
      done += blob.size;
    }
  }
  const final = must(await api.GET("/cases/{caseId}/uploads/{fileId}", { params: { path } }));
  const completed = [];
  for (const part of final.receivedParts ?? []) {
    let sha = checksums.get(part.partNumber);
    if (!sha) {
      sha = await sha256Hex(await file.slice((part.partNumber - 1) * partSize, part.partNumber * partSize).arrayBuffer());
    }
    completed.push({ partNumber: part.partNumber, etag: part.etag, sha256: sha });
  }
  must(await api.POST("/cases/{caseId}/uploads/{fileId}/complete", { params: { path }, body: { parts: completed } }));
  onProgress(file.size, file.size);
}
