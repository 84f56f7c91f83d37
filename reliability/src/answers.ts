/** The body of an API answer that must have this status; any other answer fails, with what the service said. */
export async function bodyOf<T>(status: number, sent: Promise<{ status: number; text: string; json: unknown }>): Promise<T> {
  const response = await sent;
  if (response.status !== status) throw new Error(`expected ${status}, got ${response.status}: ${response.text}`);
  return response.json as T;
}
