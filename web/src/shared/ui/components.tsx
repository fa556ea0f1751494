import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { t } from "../i18n";

/** A screen's heading, focused when the screen opens so screen readers announce it. */
export function ScreenTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  return (
    <h1 ref={ref} tabIndex={-1} class="screen-title">
      {children}
    </h1>
  );
}

export function Loading() {
  return (
    <p role="status" class="muted">
      {t("app.loading")}
    </p>
  );
}

export function ErrorBox({ error }: { error: Error }) {
  return (
    <p role="alert" class="alert error">
      {t("app.error", { message: error.message })}
    </p>
  );
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p role="status" class="alert ok">
      {children}
    </p>
  );
}

export function AttentionDot({ attention, text }: { attention: string; text: string }) {
  return (
    <span class={`attention attention-${attention}`}>
      <span class="dot" aria-hidden="true" />
      {text}
    </span>
  );
}
