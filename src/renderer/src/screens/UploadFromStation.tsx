import { useRef, useState } from 'react';
import { uploadCrops, type UploadProgress } from '../api/upload';

/**
 * At a lab-server station: the case's crops sent from this computer to the server (each file's SHA-256 checked
 * there); once all are stored the folder field holds the server's folder of the upload and the case is created
 * from it as from any folder.
 */
export function UploadFromStation({ busy, onUploaded }: { busy: boolean; onUploaded: (folder: string) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const uploading = progress !== null && result === null && problem === null;

  const chosen = (files: FileList | null) => {
    if (files === null || files.length === 0) return;
    setResult(null);
    setProblem(null);
    setProgress({ phase: 'hashing', done: 0, total: files.length });
    uploadCrops(Array.from(files), setProgress).then(
      (uploaded) => {
        setResult(`${uploaded.files} cell images uploaded and checked; the case will be made from them.`);
        onUploaded(uploaded.folder);
      },
      (error: unknown) =>
        setProblem(`${error instanceof Error ? error.message : String(error)} Choose the folder again to resume: files already stored are not sent twice.`),
    );
  };

  return (
    <div className="upload-from-station" data-testid="new-case-upload">
      <input
        ref={input}
        type="file"
        multiple
        hidden
        data-testid="new-case-upload-input"
        // webkitdirectory: choose a folder (every current browser supports it); React has no typed prop for it.
        {...{ webkitdirectory: '' }}
        onChange={(event) => chosen(event.target.files)}
      />
      <button type="button" disabled={busy || uploading} data-testid="new-case-upload-choose" onClick={() => input.current?.click()}>
        Upload a folder from this computer…
      </button>
      {uploading && (
        <span className="hint" data-testid="new-case-upload-progress">
          {progress.phase === 'hashing' ? 'Checking' : 'Uploading'} {progress.done} of {progress.total} files…
        </span>
      )}
      {result !== null && (
        <span className="hint" data-testid="new-case-upload-done">
          {result}
        </span>
      )}
      {problem !== null && (
        <span className="form-error" role="alert" data-testid="new-case-upload-error">
          {problem}
        </span>
      )}
    </div>
  );
}
