// Time zone fields: IANA names as the browser knows them ('' = the Node-RED server's zone).

export function validTimeZone(zone: unknown): boolean {
  if (!zone) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: String(zone) });
    return true;
  } catch {
    return false;
  }
}

/** A `validate` for a time zone property; invalid ones give the node's catalog message `key`. */
export function timeZoneValidator(key: string) {
  return function (this: { _?: (key: string) => string }, value: unknown, opt?: unknown): boolean | string {
    return validTimeZone(value) || (opt && typeof this._ === 'function' ? this._(key) : false);
  };
}

/** Offers the IANA zones on the text input $input (a datalist: typing filters it). */
export function timeZonePicker($input: JQuery): void {
  const id = $input.attr('id') + '-zones';
  $('#' + id).remove();
  let zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  if (!zones.includes('UTC')) zones = ['UTC', ...zones];
  const $list = $('<datalist>', { id }).insertAfter($input);
  for (const zone of zones) $('<option>').attr('value', zone).appendTo($list);
  $input.attr('list', id);
}
