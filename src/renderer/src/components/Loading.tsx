export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" data-testid="loading">
      Loading {what}…
    </p>
  );
}
