import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { MessagesProvider } from './components/MessagesProvider';
import { SettingsProvider } from './hooks/SettingsProvider';
import { SessionGate } from './session/SessionGate';
import './styles/app.css';

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');

createRoot(container).render(
  <StrictMode>
    <MessagesProvider>
      <SessionGate>
        <SettingsProvider>
          <App />
        </SettingsProvider>
      </SessionGate>
    </MessagesProvider>
  </StrictMode>,
);
