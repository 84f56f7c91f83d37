import preset from '../../jest.preset.js';

// No database or broker here: the plain preset, not @tmuxme/testing's.
export default { ...preset };
