/** Server or validation errors (JSON Pointers) shown beside the list or field they belong to. */
export function FieldErrors({
  errors,
  describe,
}: {
  errors: Record<string, string>;
  describe?: (pointer: string) => string;
}) {
  const entries = Object.entries(errors);
  if (entries.length === 0) return null;
  return (
    <ul className="field-error-list" role="alert">
      {entries.map(([pointer, detail]) => (
        <li key={pointer} className="field-error" data-pointer={pointer}>
          {describe ? `${describe(pointer)}: ` : ''}
          {detail}
        </li>
      ))}
    </ul>
  );
}
