import type { Envelope, EventData, UserRegistered, UserUpdated } from '@tmuxme/events';
import type { AddressBook } from '../domain/address-book.js';

export const recordAddressOnUserRegistered = (addressBook: AddressBook) =>
  async ({ data, occurredAt }: Envelope<EventData<typeof UserRegistered | typeof UserUpdated>>) =>
    addressBook.record(data.userId, data.username, data.email, new Date(occurredAt));
