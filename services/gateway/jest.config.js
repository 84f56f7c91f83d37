import preset from '../../jest.preset.js';

// The gateway's tests use their own upstream servers, not the database or the broker.
export default { ...preset };
