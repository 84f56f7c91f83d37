import type { Envelope, EventData, UserDeleted } from '@tmuxme/events';
import type { AddressBook } from '../domain/address-book.js';

export const forgetAddressOnUserDeleted = (addressBook: AddressBook) =>
  async ({ data, occurredAt }: Envelope<EventData<typeof UserDeleted>>) => addressBook.forget(data.userId, data.username, new Date(occurredAt));
