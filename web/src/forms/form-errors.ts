import { ApiError } from '../api.js';

export type FieldErrors<F extends string> = Partial<Record<F, string>>;
/** Errors that belong to one field, and the rest, which are about the form as a whole. */
export interface FormErrors<F extends string> { fields: FieldErrors<F>; form?: string }

/** Codes the server sends without a `field`, and the field each one is about. */
const codeFields: Record<string, string> = {
  USERNAME_TAKEN: 'username',
  EMAIL_TAKEN: 'email',
  KEY_IN_USE: 'key',
};

/**
 * The server's messages are already written for people; only the schema checks
 * speak of "the field …", so those get plainer words here.
 */
const plainerWords: Record<string, string> = {
  'VALIDATION_FAILED:email': 'Enter an e-mail address, such as ada@example.com.',
  'VALIDATION_FAILED:name': 'A token name has 1 to 100 plain characters (letters, digits, punctuation, spaces).',
};

export function formErrorsFrom<F extends string>(error: unknown, fields: readonly F[]): FormErrors<F> {
  if (!(error instanceof ApiError)) {
    return { fields: {}, form: 'Something went wrong in this page; reload it and try again.' };
  }
  const field = error.field ?? codeFields[error.code];
  const message = plainerWords[`${error.code}:${field}`] ?? error.message;
  if (field && (fields as readonly string[]).includes(field)) return { fields: { [field]: message } as FieldErrors<F> };
  return { fields: {}, form: message };
}

/** Checked before sending, so an empty field is named at once rather than by the schema's words. */
export function emptyFields<F extends string>(values: Record<F, string>, messages: Partial<Record<F, string>>): FieldErrors<F> {
  const errors: FieldErrors<F> = {};
  for (const field of Object.keys(messages) as F[]) {
    if (values[field].trim() === '') errors[field] = messages[field];
  }
  return errors;
}

export function hasErrors<F extends string>(errors: FormErrors<F>): boolean {
  return errors.form !== undefined || Object.values(errors.fields).some(Boolean);
}
