import { describe, expect, it, jest } from '@jest/globals';
import { screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { ApiError, type Api } from '../api.js';
import { description, fakeApi, renderPage } from '../test-support.js';
import { SignupPage } from './signup-page.js';

async function fillAndSubmit(values: { username?: string; email?: string; password?: string; again?: string } = {}) {
  const user = userEvent.setup();
  await user.type(screen.getByLabelText('Username'), values.username ?? 'ada');
  await user.type(screen.getByLabelText('E-mail address'), values.email ?? 'ada@example.com');
  await user.type(screen.getByLabelText('Password'), values.password ?? 'correct horse');
  await user.type(screen.getByLabelText('Password again'), values.again ?? 'correct horse');
  await user.click(screen.getByRole('button', { name: 'Sign up' }));
  return user;
}

function failingSignup(error: ApiError) {
  const signup = jest.fn<Api['signup']>().mockRejectedValue(error);
  renderPage(<SignupPage api={fakeApi({ signup })} onSignedIn={() => undefined} />);
  return signup;
}

describe('the sign-up page', () => {
  it('shows a taken username next to the username field and moves focus there', async () => {
    failingSignup(new ApiError(409, 'USERNAME_TAKEN', 'The username "ada" is taken.'));
    await fillAndSubmit();

    const username = screen.getByLabelText('Username');
    await waitFor(() => expect(username.getAttribute('aria-invalid')).toBe('true'));
    expect(description(username)).toContain('The username "ada" is taken.');
    expect(document.activeElement).toBe(username);
    expect(screen.getByLabelText('E-mail address').getAttribute('aria-invalid')).toBeNull();
  });

  it('puts an error that names its field beside that field', async () => {
    failingSignup(new ApiError(400, 'PASSWORD_TOO_SHORT', 'Passwords need at least 10 characters.', 'password'));
    await fillAndSubmit({ password: 'short', again: 'short' });

    const password = screen.getByLabelText('Password');
    await waitFor(() => expect(document.activeElement).toBe(password));
    expect(description(password)).toContain('Passwords need at least 10 characters.');
    expect(screen.getByLabelText('Username').getAttribute('aria-invalid')).toBeNull();
  });

  it('words a schema complaint about the e-mail address plainly', async () => {
    failingSignup(new ApiError(400, 'VALIDATION_FAILED', 'The field "email" must be an e-mail address.', 'email'));
    await fillAndSubmit({ email: 'ada-at-example' });

    const email = screen.getByLabelText('E-mail address');
    await waitFor(() => expect(description(email)).toBe('Enter an e-mail address, such as ada@example.com.'));
  });

  it('shows an error that belongs to no field above the form', async () => {
    failingSignup(new ApiError(503, 'DATABASE_UNAVAILABLE', 'The service cannot reach its database right now; try again shortly.'));
    await fillAndSubmit();

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('The service cannot reach its database right now; try again shortly.');
    expect(document.activeElement).toBe(alert);
  });

  it('names empty fields without asking the server', async () => {
    const signup = jest.fn<Api['signup']>();
    renderPage(<SignupPage api={fakeApi({ signup })} onSignedIn={() => undefined} />);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Sign up' }));

    expect(description(screen.getByLabelText('Username'))).toContain('Choose a username.');
    expect(description(screen.getByLabelText('Password again'))).toContain('Type the password again.');
    expect(document.activeElement).toBe(screen.getByLabelText('Username'));
    expect(signup).not.toHaveBeenCalled();
  });

  it('logs the new account in and shows its API token once', async () => {
    const signup = jest.fn<Api['signup']>().mockResolvedValue({ username: 'ada', email: 'ada@example.com', apiToken: 'tmx_secret' });
    const login = jest.fn<Api['login']>().mockResolvedValue({ username: 'ada' });
    const onSignedIn = jest.fn();
    renderPage(<SignupPage api={fakeApi({ signup, login })} onSignedIn={onSignedIn} />);
    await fillAndSubmit();

    expect(await screen.findByText('tmx_secret')).toBeTruthy();
    expect(signup).toHaveBeenCalledWith({ username: 'ada', email: 'ada@example.com', password: 'correct horse', passwordConfirmation: 'correct horse' });
    expect(login).toHaveBeenCalledWith('ada', 'correct horse');
    expect(onSignedIn).toHaveBeenCalledWith({ username: 'ada' });
    expect(screen.getByRole('button', { name: 'Copy the API token default' })).toBeTruthy();
  });
});
