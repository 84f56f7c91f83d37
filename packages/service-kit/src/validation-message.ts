import type { FastifySchemaValidationError } from 'fastify';

const typeWords: Record<string, string> = {
  string: 'text', integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'a JSON object', array: 'a list',
};

const formatWords: Record<string, string> = {
  email: 'an e-mail address', 'date-time': 'a date and time', uuid: 'a UUID', uri: 'a URL',
};

/** Turns ajv's first complaint into a sentence a person can act on. */
export function validationMessage(error: FastifySchemaValidationError, context: string): { message: string; field?: string } {
  const params = error.params as Record<string, unknown>;
  const path = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = error.keyword === 'required' ? [path, params.missingProperty].filter(Boolean).join('.') : path;
  const subject = field ? `The field "${field}"` : context === 'body' ? 'The request body' : `The ${context}`;
  switch (error.keyword) {
    case 'required':
      return { field, message: `${subject} is required.` };
    case 'additionalProperties':
      return { field: String(params.additionalProperty), message: `The field "${[path, params.additionalProperty].filter(Boolean).join('.')}" is not expected here.` };
    case 'type':
      return { field, message: `${subject} must be ${typeWords[String(params.type)] ?? String(params.type)}.` };
    case 'maxLength':
      return { field, message: `${subject} must be at most ${params.limit} characters long.` };
    case 'minLength':
      return { field, message: Number(params.limit) === 1 ? `${subject} must not be empty.` : `${subject} must be at least ${params.limit} characters long.` };
    case 'format':
      return { field, message: `${subject} must be ${formatWords[String(params.format)] ?? `in ${params.format} format`}.` };
    case 'pattern':
      return { field, message: `${subject} contains characters that are not allowed.` };
    case 'const':
    case 'enum':
      return { field, message: `${subject} has a value that is not allowed.` };
    default:
      return { field, message: `${subject} is not valid (${error.message ?? error.keyword}).` };
  }
}
