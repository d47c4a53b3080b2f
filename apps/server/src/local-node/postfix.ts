/**
 * IMS_SMTP_ENGINE=postfix: the local node is a private Postfix instance that
 * apps/postfix-node drives. Postfix comes from Debian; when it is missing the
 * launcher installs it (non-interactively, with no configuration of the
 * system instance, which is never started), as scripts/test.sh does for the
 * benchmarks.
 */

import { execFileSync } from 'node:child_process';

/** Whether Postfix's commands are installed. */
export function postfixInstalled(): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v postfix && command -v postconf'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Installs Postfix from Debian when it is missing ("No configuration": the system instance stays unconfigured). */
export function ensurePostfix(say: (line: string) => void): void {
  if (postfixInstalled()) return;
  say('IMS_SMTP_ENGINE=postfix: installing Postfix from Debian (apt-get install postfix)...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync(
    'sh',
    [
      '-c',
      'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections',
    ],
    { env, stdio: 'ignore' },
  );
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], {
    env,
    stdio: 'ignore',
  });
  execFileSync(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', '--no-install-recommends', 'postfix'],
    { env, stdio: 'ignore' },
  );
  if (!postfixInstalled()) throw new Error('Postfix is still missing after apt-get install.');
}
