// How numbers, money and times read on the page.

export const number = (n: number | undefined): string => (n === undefined ? "–" : n.toLocaleString("en-US"));

export function money(dollars: number | undefined): string {
  if (dollars === undefined) return "–";
  if (dollars !== 0 && Math.abs(dollars) < 0.01) return `$${dollars.toPrecision(2)}`;
  return `$${dollars.toFixed(2)}`;
}

export function ms(value: number | null | undefined): string {
  if (value === undefined || value === null) return "–";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
}

export function percent(ratio: number | undefined): string {
  return ratio === undefined ? "–" : `${(ratio * 100).toFixed(1)}%`;
}

/** A timestamp in the viewer's local time, to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString("sv-SE").replace("T", " ");
}

/** Parses a comma-separated list (models, ...), dropping blanks. */
export const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

/** A number typed into a form, or undefined when left blank. */
export function optionalNumber(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}
