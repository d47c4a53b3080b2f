import { type FormEvent, useId, useState } from 'react';
import { isApiProblem, messageOf } from '../../../lib/problem';
import { useSignIn } from '../api/sign-in';

/** The sign-in window. */
export function SignInPage() {
  const id = useId();
  const signIn = useSignIn();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const submit = (event: FormEvent) => {
    event.preventDefault();
    signIn.mutate({ username, password });
  };
  const error = signIn.error
    ? isApiProblem(signIn.error, 401)
      ? 'The user name or password is incorrect.'
      : messageOf(signIn.error)
    : null;
  return (
    <main className="sign-in">
      <div className="window sign-in-window">
        <div className="title-bar">
          <h1 className="title-bar-text">Sign in to the IMS Routing Console</h1>
        </div>
        <div className="window-body">
          <p>Microsoft Exchange Server — Internet Mail Service administration.</p>
          <form onSubmit={submit}>
            <div className="field-row-stacked">
              <label htmlFor={`${id}-user`}>User name:</label>
              <input
                id={`${id}-user`}
                type="text"
                autoComplete="username"
                value={username}
                required
                onChange={(e) => setUsername(e.target.value)}
              />
            </div>
            <div className="field-row-stacked">
              <label htmlFor={`${id}-password`}>Password:</label>
              <input
                id={`${id}-password`}
                type="password"
                autoComplete="current-password"
                value={password}
                required
                onChange={(e) => setPassword(e.target.value)}
              />
            </div>
            {error ? (
              <p role="alert" className="field-error">
                {error}
              </p>
            ) : null}
            <div className="dialog-buttons">
              <button type="submit" className="default" disabled={signIn.isPending}>
                Sign in
              </button>
            </div>
          </form>
        </div>
      </div>
    </main>
  );
}
