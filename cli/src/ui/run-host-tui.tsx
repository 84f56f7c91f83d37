import { render } from 'ink';
import type { HostFlow } from '../host/host-flow.js';
import type { HostStore } from '../host/host-store.js';
import { HostApp } from './host-app.js';

export interface RunHostTuiOptions {
  store: HostStore;
  /** Started already. */
  flow: HostFlow;
  /** Gives the terminal to tmux until the host detaches or the session ends. */
  attach: () => Promise<unknown>;
}

/**
 * The interactive host: the screen while setting up, then Enter hands the terminal to tmux and
 * the screen comes back on detach, until the session is over.
 */
export async function runHostTui({ store, flow, attach }: RunHostTuiOptions): Promise<void> {
  for (;;) {
    let attachRequested = false;
    const screen = render(<HostApp
      store={store}
      onAttach={() => { attachRequested = true; screen.unmount(); }}
      onQuit={() => void flow.end('you ended it')}
      onDisconnect={(ids) => ids.forEach((id) => void flow.disconnectGuest(id))} />, { exitOnCtrlC: false });
    void flow.over.then(() => setTimeout(() => screen.unmount(), 100));
    await screen.waitUntilExit();
    if (!attachRequested) break;
    await attach();
  }
  await flow.over;
}
