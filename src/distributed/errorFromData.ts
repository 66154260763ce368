/**
 * errorFromData: an error that crossed processes as data `{ name, message, code?, ... }` made an instance of its
 * slotflow class again, so the caller of `job.post()` on a producer can `instanceof UnknownSlotError` (or read
 * `code`) as with a local job. Unknown names come back as a plain `Error` with that `name`.
 */
import {
  FlowNotFoundError,
  InvalidOptionError,
  JobFinishedError,
  PayloadError,
  RuntimeClosedError,
  SlotQueueFullError,
  UnknownEventError,
  UnknownSlotError,
  type SerializedError,
} from 'slotflow';
import { JobNotFoundError } from './JobNotFoundError.js';
import { JobStalledError } from './JobStalledError.js';

/** The classes a control message can raise on a worker (errors of `job.post`, `pause`, `complete`, ...). */
const CLASSES: Readonly<Record<string, { prototype: Error }>> = {
  FlowNotFoundError,
  InvalidOptionError,
  JobFinishedError,
  JobNotFoundError,
  JobStalledError,
  PayloadError,
  RuntimeClosedError,
  SlotQueueFullError,
  UnknownEventError,
  UnknownSlotError,
};

export function errorFromData(data: SerializedError): Error {
  const known = Object.hasOwn(CLASSES, data.name) ? CLASSES[data.name] : undefined;
  // The constructor is not run (its arguments are not all in the data): the fields are set as they were.
  const error = Object.create((known ?? Error).prototype) as Error;
  const fields: PropertyDescriptorMap = {
    name: { value: data.name, enumerable: false, writable: true, configurable: true },
    message: { value: data.message, enumerable: false, writable: true, configurable: true },
  };
  for (const [key, value] of Object.entries(data))
    if (key !== 'name' && key !== 'message' && key !== 'cause') fields[key] = { value, enumerable: true, writable: true, configurable: true };
  if (data.cause !== undefined) fields.cause = { value: data.cause, enumerable: false, writable: true, configurable: true };
  Object.defineProperties(error, fields);
  Error.captureStackTrace(error, errorFromData);
  return error;
}
