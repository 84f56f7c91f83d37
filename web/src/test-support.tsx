import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import type { Api } from './api.js';
import { RouterProvider } from './router.js';

/** An Api whose every method fails loudly unless the test gives it, so a test names exactly the calls it expects. */
export function fakeApi(methods: Partial<Api>): Api {
  return new Proxy(methods as Api, {
    get(target, name: string) {
      const method = (target as Record<string, unknown>)[name];
      return method ?? (() => Promise.reject(new Error(`the test did not expect api.${name}()`)));
    },
  });
}

export function renderPage(page: ReactElement) {
  return render(<RouterProvider>{page}</RouterProvider>);
}

/** What a screen reader reads after the field's name: the texts its aria-describedby points at. */
export function description(element: HTMLElement): string {
  return (element.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean)
    .map((id) => document.getElementById(id)?.textContent ?? `(missing #${id})`).join(' | ');
}
