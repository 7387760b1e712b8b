/** Who acts: a name and a role, as sign-off, approval and the reviewer prompt ask for them (the caller lays them out). */
export function PersonFields(props: {
  name: string;
  role: string;
  onName: (name: string) => void;
  onRole: (role: string) => void;
  nameLabel: string;
  rolePlaceholder?: string;
  testIds: { name: string; role: string };
}) {
  return (
    <>
      <label className="field">
        <span className="field-label">{props.nameLabel}</span>
        <input value={props.name} data-testid={props.testIds.name} onChange={(event) => props.onName(event.target.value)} />
      </label>
      <label className="field">
        <span className="field-label">Role</span>
        <input
          value={props.role}
          {...(props.rolePlaceholder === undefined ? {} : { placeholder: props.rolePlaceholder })}
          data-testid={props.testIds.role}
          onChange={(event) => props.onRole(event.target.value)}
        />
      </label>
    </>
  );
}
