// Placeholder so the e2e workspace type-checks; specs arrive with the integration issue.
export {};
