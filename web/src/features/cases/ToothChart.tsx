import { t } from "../../shared/i18n";
import { display, JAWS, type Notation } from "./teeth";

/** A clickable chart: each tooth is a toggle button (aria-pressed), so it works by keyboard
 * and reads as "Tooth 11, pressed" to a screen reader. Selection is kept in FDI. */
export function ToothChart({
  selected,
  notation,
  onToggle,
}: {
  selected: ReadonlySet<string>;
  notation: Notation;
  onToggle: (fdi: string) => void;
}) {
  const jaw = (teeth: string[], name: string) => (
    <div role="group" aria-label={name} class="jaw">
      {teeth.map((fdi) => {
        const shown = display(fdi, notation);
        return (
          <button
            type="button"
            key={fdi}
            class="tooth"
            aria-pressed={selected.has(fdi)}
            aria-label={t("new.tooth", { n: shown })}
            data-fdi={fdi}
            onClick={() => onToggle(fdi)}
          >
            {shown}
          </button>
        );
      })}
    </div>
  );
  return (
    <div class="tooth-chart">
      {jaw(JAWS.upper, t("new.upper"))}
      {jaw(JAWS.lower, t("new.lower"))}
    </div>
  );
}
