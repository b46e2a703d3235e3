export * from './errors.js';
export * from './generic-entity.js';
export * from './limiter.js';
export * from './client.js';
export * from './paging.js';
export * from './activity.js';
export * from './panels.js';
export * from './party.js';
