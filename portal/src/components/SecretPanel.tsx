import { useState } from 'preact/hooks';
import { Confirm, CopyButton, ErrorMessage, useAction, useApi } from './ui';

/** The signing secret: hidden until asked for, copyable, rotatable (the old one keeps signing for a grace period). */
export function SecretPanel({ endpointId }: { endpointId: string }) {
  const api = useApi();
  const [secret, setSecret] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [rotated, setRotated] = useState(false);
  const reveal = useAction(async () => {
    const out = await api.get<{ key: string }>(api.app(`endpoint/${endpointId}/secret`));
    setSecret(out.key);
  });
  const rotate = useAction(async () => {
    await api.post(api.app(`endpoint/${endpointId}/secret/rotate`), {});
    setConfirming(false);
    setRotated(true);
    const out = await api.get<{ key: string }>(api.app(`endpoint/${endpointId}/secret`));
    setSecret(out.key);
  });
  return (
    <section class="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p class="hint">
        Use it to verify that requests come from us (Standard Webhooks signatures in the{' '}
        <code>webhook-signature</code> header).
      </p>
      <div class="secret-row">
        <code class="secret" data-testid="secret" aria-live="polite">
          {secret ?? 'whsec_••••••••••••••••••••••••'}
        </code>
        {secret ? (
          <>
            <button type="button" class="btn btn-small" onClick={() => setSecret(null)}>
              Hide
            </button>
            <CopyButton text={secret} />
          </>
        ) : (
          <button
            type="button"
            class="btn btn-small"
            disabled={reveal.pending}
            onClick={() => void reveal.run()}
          >
            Reveal
          </button>
        )}
        <button type="button" class="btn btn-small" onClick={() => setConfirming(true)}>
          Rotate
        </button>
      </div>
      {rotated && (
        <p class="alert alert-ok" role="status">
          Secret rotated. The previous secret keeps signing alongside the new one for 24 hours.
        </p>
      )}
      <ErrorMessage error={reveal.error} />
      <Confirm
        open={confirming}
        title="Rotate the signing secret?"
        message="A new secret is generated. The current one stays valid for 24 hours, so you have time to update your server."
        confirmLabel="Rotate secret"
        pending={rotate.pending}
        error={rotate.error}
        onConfirm={() => void rotate.run()}
        onClose={() => setConfirming(false)}
      />
    </section>
  );
}
