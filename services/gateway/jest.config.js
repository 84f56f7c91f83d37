import preset from '@tmuxme/testing/jest-preset';

// The web session tests sign in against the real accounts and keys services, on the run's database and broker.
export default { ...preset };
