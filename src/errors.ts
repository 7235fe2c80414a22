/** Every failure the application raises on purpose carries one of these codes. */
export type ErrorCode =
  | 'config.invalid'
  | 'backend.unavailable'
  | 'backend.timeout'
  | 'backend.rejected'
  | 'backend.unknownSubscriber'
  | 'backend.unknownSubscription'
  | 'backend.unknownRequest'
  | 'backend.badResponse'
  | 'sms.unavailable'
  | 'sms.rateLimited'
  | 'identity.noCode'
  | 'identity.expired'
  | 'identity.locked'
  | 'store.unreadable'
  | 'store.unwritable'
  | 'dialog.unrestorable'
  | 'input.invalid'
  | 'auth.required'
  | 'auth.invalid'
  | 'handoff.conflict'
  | 'not.found';

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra non-personal facts for logs (never phone numbers or codes). */
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, options: { cause?: unknown; message?: string; details?: Record<string, unknown> } = {}) {
    super(options.message ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
  }
}

export function isAppError(err: unknown, code?: ErrorCode): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}
