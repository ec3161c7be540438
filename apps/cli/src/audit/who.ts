import { type Actor } from '@app/event-store';

/** The user a change was made as, and who made it when that was someone else (`kubectl --as`). */
export function whoOf(actor: Actor): string {
  return actor.impersonator ? `${actor.user} (impersonated by ${actor.impersonator.user})` : actor.user;
}
