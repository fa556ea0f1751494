// Tooth numbering: FDI (ISO 3950, two digits: quadrant + tooth) and the Universal system (1-32),
// as a clinician sees the mouth (patient's right on the left of the chart).
export type Notation = "FDI" | "UNIVERSAL";

const UPPER_FDI = [18, 17, 16, 15, 14, 13, 12, 11, 21, 22, 23, 24, 25, 26, 27, 28].map(String);
const LOWER_FDI = [48, 47, 46, 45, 44, 43, 42, 41, 31, 32, 33, 34, 35, 36, 37, 38].map(String);

/** FDI -> Universal: upper 18..28 are 1..16, lower 38..31 are 17..24 and 41..48 are 25..32. */
export function fdiToUniversal(fdi: string): string {
  const upper = UPPER_FDI.indexOf(fdi);
  if (upper >= 0) return String(upper + 1);
  const lower = LOWER_FDI.indexOf(fdi);
  if (lower >= 0) return String(32 - lower);
  return fdi;
}

export const JAWS = { upper: UPPER_FDI, lower: LOWER_FDI };

export function display(fdi: string, notation: Notation): string {
  return notation === "FDI" ? fdi : fdiToUniversal(fdi);
}
