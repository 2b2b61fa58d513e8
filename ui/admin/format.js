// How values read to a person.
const UNITS = [
  [60, "s"],
  [60, "min"],
  [24, "h"],
  [30, "d"],
  [12, "mo"],
];

/** "5 min", "3 h", "2 d": the time since `iso`. */
export function age(iso, now = Date.now()) {
  let n = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (n < 45) return "now";
  for (const [size, unit] of UNITS) {
    if (n < size) return `${n} ${unit}`;
    n = Math.round(n / size);
  }
  return `${n} y`;
}

export const dateTime = (iso) =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "";

export const capitalized = (word) => (word ? word[0].toUpperCase() + word.slice(1) : "");

/** "15:00" for 900 seconds. */
export function wait(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return m >= 60 ? `${Math.floor(m / 60)} h ${m % 60} min` : `${m}:${s}`;
}

/** "5 min ago", "just now". */
export function ago(iso) {
  const a = age(iso);
  return a === "now" ? "just now" : `${a} ago`;
}

/** "812 B", "4.2 KB", "12 MB": the same rounding as the status page. */
export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let unit = 0;
  let scale = 1024;
  while (bytes / scale >= 1024 && unit < units.length - 1) {
    scale *= 1024;
    unit += 1;
  }
  const tenths = Math.round((bytes * 10) / scale);
  return tenths < 100 && tenths % 10 ? `${(tenths / 10).toFixed(1)} ${units[unit]}` : `${Math.round(bytes / scale)} ${units[unit]}`;
}
