/**
 * The data the emulator starts with (and returns to on reset()). Ids 22708 and 23179 are the ones
 * used in ASI's Postman collection (docs/imis-api.md §2.2, §3.1); 12345 is the member of the
 * event check-in example.
 */

/** A party as stored: flat fields, rendered as PersonData / OrganizationData by party.ts. */
export type PartyRecord = Record<string, unknown>;

function person(
  partyId: string,
  firstName: string,
  lastName: string,
  email: string,
  memberType: string,
  status = 'A',
): PartyRecord {
  return {
    PartyId: partyId,
    PartyType: 'Person',
    FirstName: firstName,
    LastName: lastName,
    Email: email,
    MemberType: memberType,
    Status: status,
  };
}

export function seedParties(): PartyRecord[] {
  return [
    person('101', 'John', 'Smith', 'john.smith@example.org', 'M'),
    person('12345', 'Maria', 'Garcia', 'maria.garcia@example.org', 'M'),
    person('18150', 'Ahmed', 'Khan', 'ahmed.khan@example.net', 'NM'),
    person('20418', 'Emily', 'Smith', 'emily.smith@example.com', 'STU'),
    person('22708', 'Brian', 'Murphy', 'brian.murphy@example.org', 'M'),
    person('23179', 'Susan', 'Lee', 'susan.lee@example.org', 'M'),
    person('24001', 'Tom', 'Becker', 'tom.becker@example.org', 'M', 'I'),
    {
      PartyId: '30010',
      PartyType: 'Organization',
      OrganizationName: 'Northwind Clinic',
      Email: 'office@northwind.example',
      MemberType: 'CM',
      Status: 'A',
    },
  ];
}

/** No activities: tests count what they create. SEQN numbering starts at 16566 (definitions.ts). */
export function seedActivities(): Record<string, unknown>[] {
  return [];
}

/** Rows per panel source, keyed by EntityTypeName. */
export function seedPanelRows(): Record<string, Record<string, unknown>[]> {
  return {
    Name_CEU: [
      { PartyId: '23179', SEQN: 1, CEU_Hours: 2.5, CEU_Notes: 'Ethics refresher', CEU_Course: 'ETH-101' },
      { PartyId: '23179', SEQN: 2, CEU_Hours: 10, CEU_Notes: 'text', CEU_Course: 'CLIN-220' },
    ],
    Name_Demo: [
      {
        PartyId: '23179',
        Favorite_Color: 'Green',
        Years_In_Field: 12,
        Newsletter_OptIn: true,
        Joined_Date: '2012-03-01T00:00:00',
      },
    ],
    ABC_EventAttendance: [],
    ABC_AuditLog: [],
    ABC_Preferences: [],
    ABC_Venues: [
      {
        Ordinal: 1,
        VenueName: 'Harbour Conference Centre',
        City: 'Halifax',
        Capacity: 400,
        HourlyRate: 350,
        Accessible: true,
      },
    ],
  };
}
