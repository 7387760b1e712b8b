// Locks the session after the lab's idle time without keyboard, mouse or touch in the window. The service locks an
// idle session on its own as well (it is the authority); this makes the screen lock on time even when nothing calls.
import { useEffect, useRef } from 'react';

const ACTIVITY_EVENTS = ['keydown', 'mousedown', 'mousemove', 'wheel', 'touchstart'] as const;

export function useIdleLock(idleMinutes: number | null, lock: () => void): void {
  const lockRef = useRef(lock);
  useEffect(() => {
    lockRef.current = lock;
  });
  useEffect(() => {
    if (idleMinutes === null) return undefined;
    let last = Date.now();
    const onActivity = () => {
      last = Date.now();
    };
    for (const name of ACTIVITY_EVENTS) window.addEventListener(name, onActivity, { passive: true, capture: true });
    const timer = window.setInterval(() => {
      if (Date.now() - last >= idleMinutes * 60_000) lockRef.current();
    }, 5_000);
    return () => {
      window.clearInterval(timer);
      for (const name of ACTIVITY_EVENTS) window.removeEventListener(name, onActivity, { capture: true });
    };
  }, [idleMinutes]);
}
