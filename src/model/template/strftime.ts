// Python-style `strftime` for the `strftime_now(format)` helper HF chat templates call
// (Llama 3.x: `strftime_now("%d %b %Y")` → "26 Jul 2024"). Month and day names are
// always English (Python's C locale), never the host locale, so a rendering does not
// change with the user's browser language. Local time, like Python's datetime.now().

const MONTHS = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function dayOfYear(date: Date): number {
  const start = new Date(date.getFullYear(), 0, 1);
  const msPerDay = 86_400_000;
  // Date.UTC on both sides keeps daylight-saving shifts out of the difference.
  const utcNow = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const utcStart = Date.UTC(start.getFullYear(), 0, 1);
  return Math.floor((utcNow - utcStart) / msPerDay) + 1;
}

/** Formats `date` with the C-locale directives %Y %y %m %d %e %b %B %a %A %H %I %M %S %p %j %%; others stay as written. */
export function strftime(date: Date, format: string): string {
  return format.replace(/%[YymdebBaAHIMSpj%]/g, (directive) => {
    switch (directive) {
      case '%Y': return String(date.getFullYear());
      case '%y': return pad(date.getFullYear() % 100, 2);
      case '%m': return pad(date.getMonth() + 1, 2);
      case '%d': return pad(date.getDate(), 2);
      case '%e': return String(date.getDate()).padStart(2, ' ');
      case '%b': return MONTHS[date.getMonth()].slice(0, 3);
      case '%B': return MONTHS[date.getMonth()];
      case '%a': return WEEKDAYS[date.getDay()].slice(0, 3);
      case '%A': return WEEKDAYS[date.getDay()];
      case '%H': return pad(date.getHours(), 2);
      case '%I': return pad(date.getHours() % 12 === 0 ? 12 : date.getHours() % 12, 2);
      case '%M': return pad(date.getMinutes(), 2);
      case '%S': return pad(date.getSeconds(), 2);
      case '%p': return date.getHours() < 12 ? 'AM' : 'PM';
      case '%j': return pad(dayOfYear(date), 3);
      default: return '%';
    }
  });
}
