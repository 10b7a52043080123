// Small pure helpers for what the page shows: times, colours, member lists, status lines.

/** A message's time in the reader's locale: "14:03" today, "Mon 14:03" this week, else a date. */
export function formatTime(iso, now = new Date(), locale = undefined) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return '';
  const time = at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  const startOfToday = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  if (at >= startOfToday) return time;
  const days = (startOfToday - at) / 86_400_000;
  if (days < 6) return `${at.toLocaleDateString(locale, { weekday: 'short' })} ${time}`;
  const sameYear = at.getFullYear() === now.getFullYear();
  const date = at.toLocaleDateString(locale, sameYear
    ? { day: 'numeric', month: 'short' }
    : { day: 'numeric', month: 'short', year: 'numeric' });
  return `${date} ${time}`;
}

/** The full local date and time, for a tooltip. */
export function formatFullTime(iso, locale = undefined) {
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? '' : at.toLocaleString(locale, { dateStyle: 'full', timeStyle: 'medium' });
}

/** A stable hue (0-359) per name, so each sender keeps one colour. */
export function nameHue(name) {
  let hash = 0;
  for (const ch of String(name)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** Names sorted case-insensitively, duplicates folded: [{name, count}]. */
export function summarizeMembers(names) {
  const counts = new Map();
  for (const name of Array.isArray(names) ? names : []) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts.entries()]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) || (a.name < b.name ? -1 : 1));
}

/** "1 member", "3 members". */
export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** The connection line in the header. */
export function connectionText(client, now = Date.now()) {
  switch (client.status) {
    case 'connecting':
      return 'Connecting…';
    case 'open':
      return 'Connected';
    case 'reconnecting': {
      if (client.retryAt === null) return 'Reconnecting…';
      const seconds = Math.max(1, Math.ceil((client.retryAt - now) / 1000));
      const lead = client.lastClose && !client.lastClose.opened ? 'Cannot reach the server' : 'Connection lost';
      return `${lead}. Retrying in ${seconds} s`;
    }
    case 'closed':
      return 'Disconnected';
    default:
      return 'Not connected';
  }
}
