import type { NextFunction, Request, Response } from 'express';
import type { Principal, Tokens } from '../../src/domain/tokens';
import { forbidden, unauthorized } from '../http-errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Bearer auth: the admin token reaches everything, an app token only its application. */
export function authenticate(tokens: Tokens) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const principal = match ? await tokens.verify(match[1]) : null;
    if (!principal) throw unauthorized();
    req.principal = principal;
    next();
  };
}

export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized();
  return req.principal;
}

/** Admin-only routes answer 403 to app tokens, as Svix's do. */
export function requireAdmin(req: Request): void {
  if (principalOf(req).kind !== 'admin') throw forbidden();
}
