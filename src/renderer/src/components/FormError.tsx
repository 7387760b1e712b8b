/** What went wrong with a form or an action, beside it (role=alert, so a screen reader says it); nothing when null. */
export function FormError({ text, testId }: { text: string | null | undefined; testId?: string }) {
  if (text === null || text === undefined) return null;
  return (
    <p className="form-error" role="alert" {...(testId === undefined ? {} : { 'data-testid': testId })}>
      {text}
    </p>
  );
}
