import preset from '@tmuxme/testing/jest-preset';

export default { ...preset, testTimeout: 60000 };
