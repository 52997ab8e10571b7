// A mistake in ingress configuration (credentials, limits, TLS files), found at startup or on a
// credentials reload. The message names the file and line, the variable and entry, or the option.

export class IngressConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngressConfigError';
  }
}
