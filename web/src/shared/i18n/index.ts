// English and French. Dates and times in the user's locale and time zone (Intl); the wire
// carries ISO 8601 with a zone. Due dates are calendar days of the lab: shown as dates, never shifted.
import { en, type Messages } from "./en";
import { fr } from "./fr";

export type Locale = "en" | "fr";
const CATALOGS: Record<Locale, Messages> = { en, fr };
const KEY = "caseroom.locale";

function initialLocale(): Locale {
  const saved = localStorage.getItem(KEY);
  if (saved === "en" || saved === "fr") return saved;
  return navigator.language.toLowerCase().startsWith("fr") ? "fr" : "en";
}

let current: Locale = initialLocale();
const listeners = new Set<() => void>();

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale): void {
  current = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((listener) => listener());
}

export function onLocaleChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type MessageKey = keyof Messages;

/** A message, with {name} placeholders filled in. */
export function t(key: MessageKey, values: Record<string, string | number> = {}): string {
  const template = CATALOGS[current][key];
  return template.replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? `{${name}}`));
}

/** A status, case type or attention colour: the enum value's label in the current language. */
export function label(value: string): string {
  const key = `v.${value}` as MessageKey;
  return key in CATALOGS[current] ? CATALOGS[current][key] : value;
}

/** An audit action (file.read, shared.view...) said in words; an unknown one as it is. */
export function actionLabel(action: string): string {
  const key = `act.${action}` as MessageKey;
  return key in CATALOGS[current] ? CATALOGS[current][key] : action;
}

/** The user's own variant of the chosen language (en-GB, fr-CA...) for dates and numbers. */
function formatLocale(): string {
  return navigator.languages.find((tag) => tag.toLowerCase().startsWith(current)) ?? current;
}

export function timeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** An instant (ISO 8601 with zone) in the user's zone, e.g. "30 Nov 2026, 14:05". */
export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A calendar day (YYYY-MM-DD, e.g. a due date in the lab's calendar), not shifted by any zone. */
export function formatDay(day: string | null | undefined): string {
  if (!day) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(day);
  if (!match) return day;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return new Intl.DateTimeFormat(formatLocale(), { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

export function formatNumber(value: number): string {
  return new Intl.NumberFormat(formatLocale()).format(value);
}

export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${new Intl.NumberFormat(formatLocale(), { maximumFractionDigits: unit ? 1 : 0 }).format(value)} ${units[unit]}`;
}

/** An instant with its weekday and zone, in `zone` (default: the user's), e.g. "Tue 1 Dec 2026, 14:00 CET". */
export function formatInstant(iso: string | null | undefined, zone?: string): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(formatLocale(), {
    weekday: "short",
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
    timeZone: zone ?? timeZone(),
  }).format(date);
}

/** The calendar day of an instant in the user's zone, as YYYY-MM-DD (to group by day). */
export function localDayKey(iso: string): string {
  const parts = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: timeZone() }).format(new Date(iso));
  return parts;
}

/** The hour 0-23 in the user's zone that a UTC hour falls on today (for the digest hour). */
export function localHourOfUtc(hourUtc: number): string {
  const date = new Date();
  date.setUTCHours(hourUtc, 0, 0, 0);
  return new Intl.DateTimeFormat(formatLocale(), { hour: "2-digit", minute: "2-digit", timeZoneName: "short" }).format(date);
}
