/** A token of this name exists already (names stay unique after revocation: the audit names actors by them). */
export class TokenExistsError extends Error {
  override name = 'TokenExistsError';
  readonly exitCode = 2;
  constructor(readonly tokenName: string) {
    super(
      `a token named "${tokenName}" exists already (names are never reused, revoked or not); choose another name`,
    );
  }
}
