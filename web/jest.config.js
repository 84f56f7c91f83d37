import preset from '../jest.preset.js';

// The form components render into a DOM, so this workspace's tests run in jsdom.
export default { ...preset, testEnvironment: 'jsdom' };
