import assert from 'node:assert/strict';
import {
  eventSubject,
  eventTypeFilter,
  isValidEventTypeEntry,
  readGridBody,
} from '../../src/core/event-grid.js';

describe('Event Grid bodies (iMIS change notifications)', () => {
  it('recognises the Verify and Save validation event and its code', () => {
    const body = readGridBody([
      {
        id: '2a7c',
        topic: '/subscriptions/x/topics/tenant1',
        subject: '',
        data: { validationCode: '6E51', validationUrl: 'https://example.invalid/validate' },
        eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
        eventTime: '2022-11-10T15:46:00Z',
      },
    ]);
    assert.deepEqual(body, {
      kind: 'validation',
      validationCode: '6E51',
      validationUrl: 'https://example.invalid/validate',
    });
  });

  it('reads an array of events and refuses what is not one', () => {
    const events = readGridBody([{ id: '1', eventType: 'Party.Updated', data: {} }]);
    assert.equal(events.kind, 'events');
    assert.equal(readGridBody('x').kind, 'invalid');
    assert.equal(readGridBody([{ id: '1' }]).kind, 'invalid');
    assert.equal(readGridBody([{ eventType: 'Party.Updated' }]).kind, 'invalid');
    assert.equal(readGridBody([7]).kind, 'invalid');
  });

  it('filters by Entity.Action and Entity.*, ignoring case; empty takes all', () => {
    const partyAll = eventTypeFilter(['Party.*']);
    assert.equal(partyAll('Party.Updated'), true);
    assert.equal(partyAll('party.created'), true);
    assert.equal(partyAll('Event.Created'), false);
    const exact = eventTypeFilter(['party.updated']);
    assert.equal(exact('Party.Updated'), true);
    assert.equal(exact('Party.Created'), false);
    assert.equal(eventTypeFilter([])('Anything.Else'), true);
  });

  it('refuses malformed Event Types entries', () => {
    assert.equal(isValidEventTypeEntry('Party.Updated'), true);
    assert.equal(isValidEventTypeEntry('Event.*'), true);
    for (const bad of ['Party', '*.Updated', 'Party.', 'Party.Up dated', 'Party.*.*']) {
      assert.equal(isValidEventTypeEntry(bad), false, bad);
    }
    assert.throws(() => eventTypeFilter(['Party']), /Invalid event type "Party"/);
  });

  it('finds the subject entity from data or from the subject path', () => {
    assert.deepEqual(
      eventSubject({
        id: '1',
        eventType: 'Party.Updated',
        data: { EntityTypeName: 'Party', Identity: '101' },
      }),
      {
        entityType: 'Party',
        id: '101',
      },
    );
    assert.deepEqual(eventSubject({ id: '1', eventType: 'Event.Created', subject: 'Event/EV26' }), {
      entityType: 'Event',
      id: 'EV26',
    });
  });
});
