import {
  hostSteps, stepTitle, type ConnectedGuest, type HostEvent, type HostMode, type ReadySession, type SessionPlace, type StepId, type StepStatus,
} from './host-events.js';

export interface StepView {
  id: StepId;
  title: string;
  status: StepStatus;
  startedAt?: number;
  endedAt?: number;
  detail?: string;
}

export type HostPhase = 'setting-up' | 'ready' | 'ending' | 'ended';

export interface Departure {
  guest: ConnectedGuest;
  /** When the flow saw them go, ms since the epoch. */
  at: number;
}

/** The session went from one box to another: its first box stopped answering. */
export interface Move {
  from: SessionPlace;
  to: SessionPlace;
  /** ms since the epoch. */
  at: number;
}

/** Everything the host screen shows, folded from the flow's events. */
export interface HostView {
  phase: HostPhase;
  /** Which way guests are served, and why. */
  mode?: { mode: HostMode; reason: string };
  steps: StepView[];
  notices: string[];
  session?: ReadySession;
  /** The session's last move to another box, if it made one: `session` holds its new join commands. */
  moved?: Move;
  connected: ConnectedGuest[];
  /** Each guest's last connection that ended, oldest first: a long session does not pile them up. */
  departed: Departure[];
  endReason?: string;
  problems: string[];
  /** With --keep-tmux, how to attach to the tmux left running. */
  keptTmux?: string;
}

export const initialHostView = (): HostView => ({
  phase: 'setting-up',
  steps: hostSteps.map(({ id, title }) => ({ id, title, status: 'pending' })),
  notices: [],
  connected: [],
  departed: [],
  problems: [],
});

export function reduceHostView(view: HostView, event: HostEvent): HostView {
  switch (event.type) {
    case 'step':
      return {
        ...view,
        steps: view.steps.map((step) => (step.id !== event.id ? step : {
          ...step,
          status: event.status,
          detail: event.detail ?? step.detail,
          startedAt: event.status === 'running' ? event.at : step.startedAt,
          endedAt: event.status === 'done' || event.status === 'failed' ? event.at : undefined,
        })),
      };
    case 'mode':
      return {
        ...view,
        mode: { mode: event.mode, reason: event.reason },
        steps: view.steps.map((step) => ({ ...step, title: stepTitle(step.id, event.mode) })),
      };
    case 'notice':
      return event.quiet ? view : { ...view, notices: [...view.notices, event.message] };
    case 'ready':
      return { ...view, phase: 'ready', session: event.session };
    case 'moved':
      return { ...view, session: event.session, moved: { from: event.from, to: event.to, at: event.at } };
    case 'guests':
      return { ...view, connected: event.connected };
    case 'guest':
      // Arrivals show in the `guests` list that follows; each guest's last departure is kept to say when they left.
      if (event.change !== 'left') return view;
      return {
        ...view,
        departed: [...view.departed.filter(({ guest }) => guest.username !== event.guest.username), { guest: event.guest, at: event.at }],
      };
    case 'ending':
      return { ...view, phase: 'ending', endReason: event.reason };
    case 'ended':
      return { ...view, phase: 'ended', endReason: event.reason, problems: event.problems, keptTmux: event.keptTmux };
  }
}

/** `0.4 s`, `12 s`: how long a step took, or has been running. */
export function elapsed(step: StepView, now: number): string | undefined {
  if (step.startedAt === undefined) return undefined;
  const ms = (step.endedAt ?? now) - step.startedAt;
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** `14:05`: the local time of day, as the host reads it off a clock. */
export const clock = (at: Date | number): string => new Date(at).toTimeString().slice(0, 5);
