import { Component, type ErrorInfo, type ReactNode } from 'react';
import { errorText } from './messages';

interface Props {
  children: ReactNode;
  /** Changing it (e.g. the route) clears a caught error, so navigating away recovers. */
  resetKey: string;
}

interface State {
  error: unknown;
  failedKey: string | null;
}

/** A crash in one screen shows what happened and a way on, never a blank window. */
export class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, failedKey: null };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error ?? new Error('Unknown error') };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (state.error !== null && state.failedKey !== null && state.failedKey !== props.resetKey) {
      return { error: null, failedKey: null };
    }
    return null;
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    console.error('Screen crashed', error, info.componentStack);
    this.setState({ failedKey: this.props.resetKey });
  }

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return (
      <section className="panel error-boundary" role="alert" data-testid="error-boundary">
        <h2>This screen failed</h2>
        <p data-testid="error-boundary-message">{errorText(this.state.error)}</p>
        <p>Saved reviews and cases are not affected. Try again, or go back to the case list.</p>
        <button type="button" data-testid="error-boundary-retry" onClick={() => this.setState({ error: null, failedKey: null })}>
          Try again
        </button>{' '}
        <a className="button-link" href="#/cases" data-testid="error-boundary-cases">
          Back to the case list
        </a>
      </section>
    );
  }
}
