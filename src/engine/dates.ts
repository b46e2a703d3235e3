/** Today's date in `timeZone` (IANA; '' = this server's), as iMIS expects it: local, no zone. */
export function todayIn(timeZone: string, now = new Date()): string {
  const day = new Intl.DateTimeFormat('en-CA', {
    timeZone: timeZone || undefined,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
  return `${day}T00:00:00`;
}

/** True for a time zone name this runtime knows (IANA, e.g. America/Chicago), or '' (this server's). */
export function isTimeZone(timeZone: string): boolean {
  if (timeZone === '') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The IANA zone '' stands for: this server's own. */
export function serverTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}
