// Placeholder: this package gets its contents with the console-server issue.
export {};
