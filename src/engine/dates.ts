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
