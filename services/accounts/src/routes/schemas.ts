import { Type } from 'typebox';
import { ErrorResponse } from '@tmuxme/service-kit';

export { ErrorResponse };

/** Sizes are bounded in the schema so nothing huge reaches bcrypt or the database. */
export const Username = Type.String({ minLength: 1, maxLength: 39 });
export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
export const Timestamp = Type.String({ format: 'date-time' });

export const AccessToken = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer(),
});

export const Account = Type.Object({ username: Type.String(), email: Type.String(), createdAt: Timestamp });
