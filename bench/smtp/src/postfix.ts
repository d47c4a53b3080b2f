/**
 * A private Postfix instance on loopback for the benchmark: its own config,
 * queue and mail directories in a temp dir, never the system's. Its rules
 * are the product's defaults: example.com is delivered locally (to a
 * Maildir), authenticated clients may relay, everyone else is relay-denied.
 */

import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function postfixInstalled(): boolean {
  try {
    execFileSync(
      'sh',
      ['-c', 'command -v postfix && command -v smtp-source && command -v smtp-sink'],
      {
        stdio: 'ignore',
      },
    );
    return true;
  } catch {
    return false;
  }
}

/** Installs Postfix (with smtp-source and smtp-sink) from Debian, without questions. */
export function installPostfix(): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync(
    'sh',
    [
      '-c',
      'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections',
    ],
    { env },
  );
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'update', '-q'], {
    env,
    stdio: 'ignore',
  });
  execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', 'install', '-y', '-q', 'postfix'], {
    env,
    stdio: 'ignore',
  });
}

function ids(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
  return { uid, gid };
}

export class PrivatePostfix {
  readonly etc: string;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {
    this.etc = join(dir, 'etc');
  }

  /** Writes main.cf and master.cf and starts the instance. */
  start(): void {
    const { uid, gid } = ids('postfix');
    for (const d of ['etc', 'queue', 'data', 'mail'])
      mkdirSync(join(this.dir, d), { recursive: true });
    chownSync(join(this.dir, 'data'), uid, gid);
    chownSync(join(this.dir, 'mail'), uid, gid);
    writeFileSync(
      join(this.etc, 'main.cf'),
      `${[
        'compatibility_level = 3.6',
        `queue_directory = ${join(this.dir, 'queue')}`,
        `data_directory = ${join(this.dir, 'data')}`,
        'meta_directory = /etc/postfix',
        'mail_owner = postfix',
        'myhostname = postfix.bench.example',
        'mydomain = bench.example',
        'mydestination =',
        'inet_interfaces = 127.0.0.1',
        'inet_protocols = ipv4',
        // Nobody is trusted by address: relaying needs authentication, as in the product's defaults.
        'mynetworks = 127.255.255.255/32',
        'virtual_mailbox_domains = example.com',
        `virtual_mailbox_base = ${join(this.dir, 'mail')}`,
        'virtual_mailbox_maps = static:alice/',
        `virtual_uid_maps = static:${uid}`,
        `virtual_gid_maps = static:${gid}`,
        'smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination',
        // The product does no reverse DNS lookups either.
        'smtpd_peername_lookup = no',
        `maillog_file = ${join(this.dir, 'maillog')}`,
        `maillog_file_prefixes = ${this.dir}`,
        // Enough smtpd processes for the 1,000 idle sessions of the memory rows
        // (one process per session); the throughput runs use at most 50.
        'default_process_limit = 1100',
        'smtpd_client_connection_count_limit = 0',
        'smtpd_client_connection_rate_limit = 0',
        'alias_maps =',
        'alias_database =',
        'biff = no',
      ].join('\n')}\n`,
    );
    writeFileSync(
      join(this.etc, 'master.cf'),
      `${[
        `127.0.0.1:${this.port} inet n - n - - smtpd`,
        'pickup unix n - n 60 1 pickup',
        'cleanup unix n - n - 0 cleanup',
        'qmgr unix n - n 300 1 qmgr',
        'rewrite unix - - n - - trivial-rewrite',
        'bounce unix - - n - 0 bounce',
        'defer unix - - n - 0 bounce',
        'trace unix - - n - 0 bounce',
        'verify unix - - n - 1 verify',
        'flush unix n - n 1000? 0 flush',
        'proxymap unix - - n - - proxymap',
        'proxywrite unix - - n - 1 proxymap',
        'smtp unix - - n - - smtp',
        'relay unix - - n - - smtp',
        'showq unix n - n - - showq',
        'error unix - - n - - error',
        'retry unix - - n - - error',
        'discard unix - - n - - discard',
        'local unix - n n - - local',
        'virtual unix - n n - - virtual',
        'anvil unix - - n - 1 anvil',
        'scache unix - - n - 1 scache',
        'postlog unix-dgram n - n - 1 postlogd',
      ].join('\n')}\n`,
    );
    execFileSync('postfix', ['-c', this.etc, 'start'], { stdio: 'ignore' });
  }

  /** The master process's pid (its pid file), once started. */
  masterPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir, 'queue', 'pid', 'master.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Messages Postfix has accepted and not yet delivered (its maildrop,
   * incoming and active queues; deferred mail would wait for ever and is not
   * counted). It goes on delivering after smtp-source has its 250s.
   */
  inFlight(): number {
    let n = 0;
    for (const q of ['maildrop', 'incoming', 'active']) {
      try {
        n += readdirSync(join(this.dir, 'queue', q), {
          recursive: true,
          withFileTypes: true,
        }).filter((e) => e.isFile()).length;
      } catch {
        // not created yet
      }
    }
    return n;
  }

  stop(): void {
    try {
      execFileSync('postfix', ['-c', this.etc, 'stop'], { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
}
