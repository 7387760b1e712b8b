import { isAnalysisUnderway } from '../../shared/case-lifecycle';
import { useCallback, useEffect, useState } from 'react';
import type { CaseDetail, CaseSummary } from '../../shared/api';
import { getShell } from './api';
import { ErrorBoundary } from './components/ErrorBoundary';
import { StationStatus } from './components/StationStatus';
import { useMessages } from './components/messages';
import { caseRoute, routeToHash } from './navigation/route';
import { useRoute } from './navigation/useRoute';
import { AboutDialog } from './screens/AboutDialog';
import { CaseScreen, type MenuRequest } from './screens/CaseScreen';
import { CasesScreen } from './screens/CasesScreen';
import { PatientScreen } from './history/PatientScreen';
import { LabModelScreen } from './screens/LabModelScreen';
import { NewCaseScreen } from './screens/NewCaseScreen';
import { SettingsDialog } from './screens/SettingsDialog';
import { UsersScreen } from './screens/UsersScreen';
import { useSettings } from './hooks/settings';
import { useSession } from './hooks/session';
import { getApi } from './api';
import { PasswordChangeScreen } from './session/PasswordChangeScreen';
import { ROLE_LABELS } from '../../shared/roles';
import type { MenuCommand } from '../../shared/shell';

type DialogName = 'about' | 'settings' | 'users' | 'password' | null;

export function App() {
  const [route, navigate] = useRoute();
  const { settings } = useSettings();
  const { user, may, setSession } = useSession();
  const { notify } = useMessages();
  const [dialog, setDialog] = useState<DialogName>(null);
  const [menuRequest, setMenuRequest] = useState<MenuRequest | null>(null);
  const [followCase, setFollowCase] = useState<number | null>(null);
  const openCaseId = route.screen === 'case' ? route.caseId : null;

  const onMenu = useCallback(
    (command: MenuCommand) => {
      switch (command) {
        case 'new-case':
          if (may('createCase')) navigate({ screen: 'new-case' });
          else notify('Creating a case needs the technician role.');
          break;
        case 'about':
          setDialog('about');
          break;
        case 'save-report':
        case 'print':
          if (openCaseId === null) notify('Open a case first.');
          else setMenuRequest((current) => ({ command, sequence: (current?.sequence ?? 0) + 1 }));
          break;
      }
    },
    [navigate, notify, openCaseId, may],
  );

  useEffect(() => {
    const shell = getShell();
    if (shell === undefined) return undefined;
    return shell.onMenu(onMenu);
  }, [onMenu]);

  const openCase = (summary: CaseSummary) => {
    const running = isAnalysisUnderway(summary.status);
    setFollowCase(running ? summary.id : null);
    navigate(caseRoute(summary.id, running ? 'analysis' : 'differential'));
  };

  const created = (detail: CaseDetail) => {
    setFollowCase(detail.id);
    navigate(caseRoute(detail.id, 'analysis'));
  };

  return (
    <div className="app" data-testid="app">
      <header className="topbar">
        <a className="brand" href={routeToHash({ screen: 'cases' })}>
          MarrowCount
        </a>
        {settings !== null && settings.labName !== '' && <span className="topbar-lab">{settings.labName}</span>}
        <nav className="topbar-nav" aria-label="Main">
          <button
            type="button"
            className={route.screen === 'cases' ? 'nav nav-active' : 'nav'}
            data-testid="nav-cases"
            onClick={() => navigate({ screen: 'cases' })}
          >
            Cases
          </button>
          {may('createCase') && (
            <button
              type="button"
              className={route.screen === 'new-case' ? 'nav nav-active' : 'nav'}
              data-testid="nav-new-case"
              onClick={() => navigate({ screen: 'new-case' })}
            >
              New case
            </button>
          )}
          <button
            type="button"
            className={route.screen === 'lab-model' ? 'nav nav-active' : 'nav'}
            data-testid="nav-lab-model"
            onClick={() => navigate({ screen: 'lab-model' })}
          >
            Lab model
          </button>
          {may('saveSettings') && (
            <button type="button" className="nav" data-testid="nav-settings" onClick={() => setDialog('settings')}>
              Settings
            </button>
          )}
          {may('listUsers') && (
            <button type="button" className="nav" data-testid="nav-users" onClick={() => setDialog('users')}>
              Users
            </button>
          )}
          <button type="button" className="nav" data-testid="nav-about" onClick={() => setDialog('about')}>
            About
          </button>
        </nav>
        <StationStatus userId={user.id} />
        <span className="topbar-user" data-testid="topbar-user" title={`Logged in as ${user.login}`}>
          {user.displayName} <span className="topbar-roles">({user.roles.map((r) => ROLE_LABELS[r]).join(', ')})</span>
        </span>
        <button type="button" className="nav" data-testid="nav-password" onClick={() => setDialog('password')}>
          Password
        </button>
        <button type="button" className="nav" data-testid="nav-lock" onClick={() => void getApi().lockSession().then(setSession)}>
          Lock
        </button>
        <button type="button" className="nav" data-testid="nav-logout" onClick={() => void getApi().logout().then(setSession)}>
          Log out
        </button>
      </header>
      <main className="content">
        <ErrorBoundary resetKey={routeToHash(route)}>
          {route.screen === 'cases' && <CasesScreen onOpen={openCase} onNew={() => navigate({ screen: 'new-case' })} />}
          {route.screen === 'lab-model' && <LabModelScreen onOpenCase={(caseId) => navigate(caseRoute(caseId, 'differential'))} />}
          {route.screen === 'patient' && (
            <PatientScreen key={route.labId} labId={route.labId} onOpenCase={(caseId) => navigate(caseRoute(caseId, 'differential'))} />
          )}
          {route.screen === 'new-case' && <NewCaseScreen onCreated={created} onCancel={() => navigate({ screen: 'cases' })} />}
          {route.screen === 'case' && (
            <CaseScreen
              key={route.caseId}
              route={route}
              navigate={navigate}
              menuRequest={menuRequest}
              followAnalysis={followCase === route.caseId}
              onAnalysisFollowed={() => setFollowCase(null)}
            />
          )}
        </ErrorBoundary>
      </main>
      {dialog === 'about' && <AboutDialog onClose={() => setDialog(null)} />}
      {dialog === 'settings' && <SettingsDialog onClose={() => setDialog(null)} />}
      {dialog === 'users' && <UsersScreen onClose={() => setDialog(null)} />}
      {dialog === 'password' && (
        <PasswordChangeScreen
          user={user}
          onCancel={() => setDialog(null)}
          onDone={(session) => {
            setDialog(null);
            setSession(session);
            notify('Password changed.');
          }}
        />
      )}
    </div>
  );
}
