/**
 * `email`: SMTP through nodemailer. STARTTLS is used when the server offers it (`starttls:
 * require` refuses to send in clear); the login comes from `username_env`/`password_env`.
 */
import { formatDuration } from '../../core/duration.js';
import { readFileSync } from 'node:fs';
import { plainText, subjectLine } from '../alert-text.js';
import type { AlertEvent, EmailChannelConfig } from '../types.js';
import { DeliveryError, fromEnv, type Channel } from './channel.js';

export function emailChannel(config: EmailChannelConfig): Channel {
  return {
    config,
    async send(ev: AlertEvent, signal: AbortSignal) {
      const raw = config.smtpEnv
        ? fromEnv(config.smtpEnv, `SMTP URL of channel ${config.name}`)
        : config.smtp!;
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new DeliveryError(`the SMTP address of channel ${config.name} is not a URL`, false);
      }
      const secure = url.protocol === 'smtps:';
      const user = config.usernameEnv
        ? fromEnv(config.usernameEnv, `SMTP user of ${config.name}`)
        : undefined;
      const pass = config.passwordEnv
        ? fromEnv(config.passwordEnv, `SMTP password of ${config.name}`)
        : undefined;
      // Loaded on first use: most commands never send mail.
      const { default: nodemailer } = await import('nodemailer');
      const transport = nodemailer.createTransport({
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(url.port || (secure ? 465 : 25)),
        secure,
        requireTLS: config.starttls === 'require',
        ignoreTLS: config.starttls === 'never',
        auth: user !== undefined ? { user, pass } : undefined,
        tls: config.caFile ? { ca: readFileSync(config.caFile) } : undefined,
        connectionTimeout: config.timeoutMs,
        greetingTimeout: config.timeoutMs,
        socketTimeout: config.timeoutMs,
      });
      const onAbort = () => transport.close();
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await transport.sendMail({
          from: config.from,
          to: [...config.to],
          subject: subjectLine(ev, config.subjectPrefix),
          text: plainText(ev),
          headers: { 'X-Caretaker-Event': ev.event },
        });
      } catch (err) {
        const e = err as Error & { code?: string; responseCode?: number };
        if (signal.aborted) throw new DeliveryError(`no answer within ${formatDuration(config.timeoutMs)}`);
        // 5xx SMTP answers (bad recipient, auth refused) do not get better by retrying.
        const permanent = e.code === 'EAUTH' || (e.responseCode !== undefined && e.responseCode >= 500);
        throw new DeliveryError(`SMTP: ${e.message.split('\n')[0]}`, !permanent);
      } finally {
        signal.removeEventListener('abort', onAbort);
        transport.close();
      }
    },
  };
}
